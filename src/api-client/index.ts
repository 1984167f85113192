export { ApiError, KindlingClient, Unreachable, type ClientOptions } from './client.js';
export type * from './types.js';
