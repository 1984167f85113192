import type { MirrorState } from '../../../src/api-client/types';
import { client, ApiError } from './api';

/** GET /api/mirror, or null when this Kindling has no mirror service (404). */
export async function mirrorState(): Promise<MirrorState | null> {
  try {
    return await client.mirror();
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return null;
    throw err;
  }
}
