export { CHROMIUM_PATH, browserTestPlan, launchChromium } from "./chromium";
