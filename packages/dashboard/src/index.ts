export { createDashboard, type DashboardHandler } from "./create-dashboard.js";
export type {
  DashboardAuth,
  DashboardBasicAuth,
  DashboardLogger,
  DashboardOptions,
  DashboardTokenAuth,
} from "./dashboard-options.js";
