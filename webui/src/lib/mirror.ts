import { api, ApiError } from './api';

/** GET /api/mirror, or null when this Kindling has no mirror service (404). */
export async function mirrorState(): Promise<any | null> {
  try {
    return await api('GET', '/api/mirror');
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return null;
    throw err;
  }
}
