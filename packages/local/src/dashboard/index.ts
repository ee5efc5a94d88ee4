export { type Dashboard, type DashboardOptions, startDashboard } from "./server";
export { createStateReader, type DashboardState } from "./state";
