import { applianceConfigPath } from '../config/index.js';

export const usage = `kindling: the network-boot server of a rack

  kindling serve [--config FILE]      run (default ${applianceConfigPath}, or built-in defaults in a checkout)
  kindling check [--config FILE]      validate configuration, profiles, machines.yaml and templates
  kindling machines [list]            list machines (talks to the running service)
  kindling machines show MAC
  kindling machines assign MAC PROFILE [--name NAME]
  kindling machines reinstall MAC
  kindling machines forget MAC
  kindling render MAC --as ipxe|ignition|cloud-config   what a machine would get now (secrets masked)
  kindling mirror sync [--source NAME]   sync the mirror now and show progress until it ends
  kindling mirror status                 sources, versions held, last sync
  kindling mirror import DIR [--source NAME]   verify and publish a release copied from a USB stick
  kindling host-address apply            the appliance's own address, as the page asked (root, from its unit)

  Commands that talk to the service find it through the configuration's http.listen and
  http.port and read DATADIR/state/admin-token; --timeout SECONDS bounds each request (10).
`;
