export { REPO_ROOT, handlerPool, loadHandler, type HandlerPool } from "@donut-states/emulators/runtime";
