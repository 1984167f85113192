export { buildHttpApp } from './app.js';
export { serverUrlFor, type HttpDeps, type ServiceStatus } from './context.js';
