// The image mirror: Flatcar and Fedora CoreOS releases, verified, published
// atomically, served under /mirror/. See docs/mirror.md.
export {
  openMirror,
  Mirror,
  type MirrorOptions,
  type MirrorState,
  type SourceState,
  type ServedFile,
} from './mirror.js';
export { mirrorAdminRoutes, mirrorFileRoutes, type MirrorRouteDeps } from './routes.js';
export { formatProgress, formatBytes } from './progress.js';
export { checkSchedule } from './schedule.js';
export { flatcarImageSigningKey, flatcarImageSigningFingerprint } from './keys/flatcar-image-signing.js';
export { fedoraSigningKeys, fedoraSigningFingerprints } from './keys/fedora-signing.js';
export type { ProgressEvent, SyncOutcome, VersionManifest } from './types.js';
