export { browserTestPlan, CHROMIUM_PATH, launchChromium } from "./chromium";
