export { startDashboard, type Dashboard, type DashboardOptions } from "./server";
export { createStateReader, type DashboardState } from "./state";
