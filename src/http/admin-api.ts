import type { FastifyInstance } from 'fastify';
import { mirrorAdminRoutes } from '../mirror/routes.js';
import { updateAdminRoutes } from '../updates/routes.js';
import { installAdminGuard } from './admin-guard.js';
import type { HttpDeps } from './context.js';
import { installHttpsOnly } from './https.js';
import { apiRoutes } from './routes/api.js';
import { profileEditRoutes } from './routes/profile-edit.js';
import { sessionRoutes } from './routes/session.js';
import { settingsRoutes } from './routes/settings.js';

/**
 * The admin API: every route under `/api`, in one encapsulated fastify scope whose
 * onRequest hook authenticates. Scoping decides who is checked, not a test on the
 * URL string: the router decodes `/%61pi/machines` to this scope's `/api/machines`,
 * and the hook runs for it like for any other spelling that reaches these routes.
 * A route added here is protected by construction; one added elsewhere is not admin.
 */
export function adminApi(app: FastifyInstance, deps: HttpDeps): void {
  app.register(
    async (api) => {
      installHttpsOnly(api, deps);
      installAdminGuard(api, deps);
      apiRoutes(api, deps);
      sessionRoutes(api, deps);
      settingsRoutes(api, deps);
      profileEditRoutes(api, deps);
      if (deps.mirror) mirrorAdminRoutes(api, deps.mirror);
      if (deps.updates) updateAdminRoutes(api, { ...deps, updates: deps.updates });
    },
    { prefix: '/api' },
  );
}
