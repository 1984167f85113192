import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { HttpDeps } from './context.js';
import { mirrorFileRoutes } from '../mirror/routes.js';
import { adminApi } from './admin-api.js';
import { frameworkErrors, installErrorHandler } from './errors.js';
import { installHttpsOnly } from './https.js';
import { bootRoutes } from './routes/boot.js';
import { callbackRoutes } from './routes/callback.js';
import { configRoutes } from './routes/config.js';
import { healthRoutes } from './routes/health.js';
import { webuiRoutes } from './routes/webui.js';
import { updateRoutes } from '../updates/routes.js';

// Request bodies are small JSON documents; anything bigger is a mistake or an attack.
const bodyLimit = 64 * 1024;

/** Builds the HTTP service without listening, so tests can `inject` or listen on port 0. */
export function buildHttpApp(deps: HttpDeps): FastifyInstance {
  const app = Fastify({
    loggerInstance: deps.logger.child({ area: 'http' }) as FastifyBaseLogger,
    bodyLimit,
    // Routes log what matters (MAC, decision); a line per request would bury it.
    logController: new LogController({ disableRequestLogging: true }),
    // Kindling sits behind no proxy; the peer address is the node's address.
    trustProxy: false,
    routerOptions: { maxParamLength: 200 },
    // A bad URL or an over-long parameter is answered before any route, by fastify itself
    // unless told otherwise; this keeps those answers in the error table too.
    frameworkErrors,
  });
  installErrorHandler(app);
  // Open to the network: what nodes need to boot and install, and the health summary.
  healthRoutes(app, deps);
  bootRoutes(app, deps);
  configRoutes(app, deps);
  callbackRoutes(app, deps);
  if (deps.mirror) mirrorFileRoutes(app, { mirror: deps.mirror });
  if (deps.updates) updateRoutes(app, { ...deps, updates: deps.updates });
  adminApi(app, deps);
  const webuiDir = deps.webuiDir;
  if (webuiDir !== null) {
    app.register(async (instance) => {
      installHttpsOnly(instance, deps);
      await webuiRoutes(instance, webuiDir);
    });
  }
  return app;
}
