// /join/{token}/check: the device check alone, to test days ahead; its result is kept.
import { DeviceCheck } from "./devicecheck.js";

document.body.dataset.stage = "check";
new DeviceCheck().mount();
