export { UpdateService, payloadName, groupNamePattern, type GroupView } from './service.js';
export { updateRoutes, updateAdminRoutes, type UpdateMachine } from './routes.js';
export { updateStates, type UpdateRecord, type UpdateState, type GroupPolicy } from './decision.js';
export { parseOmahaRequest, renderOmahaResponse, flatcarAppId } from './omaha.js';
