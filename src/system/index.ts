export { createNotifier, startWatchdog, type Notifier } from './notify.js';
export { createLogger } from './logger.js';
export { readOrCreateSecret } from './secret.js';
export { rackAddress, requireRackAddress } from './network.js';
export { watchRackAddress } from './rack-address-watch.js';
export {
  certificateNames,
  readOrCreateCertificate,
  tlsFiles,
  type CertificateNames,
  type TlsCertificate,
} from './tls-certificate.js';
