import type { MirrorSource } from '../config/schema.js';

/** One file of a release as upstream publishes it. */
export interface ReleaseFile {
  /** Upstream's file name; also its name on the mirror. */
  name: string;
  url: string;
  /** sha256 from signed-over-TLS metadata (FCOS), or null where upstream gives none (Flatcar). */
  sha256: string | null;
  /** The detached OpenPGP signature, served untouched beside the file as NAME.sig. */
  signatureUrl: string | null;
}

/** What an adapter found upstream: the version and every file it needs. */
export interface Release {
  version: string;
  files: ReleaseFile[];
  /** Small files written as given (Flatcar's version.txt, which flatcar-install reads). */
  extras: Array<{ name: string; content: string }>;
  /** Version-less names the boot scripts use, mapped to upstream names. */
  aliases: Record<string, string>;
}

/** Written into a version directory before it is published; only names listed here are served. */
export interface VersionManifest {
  source: string;
  version: string;
  publishedAt: string;
  /** Served name -> file name inside the version directory, size and sha256. */
  files: Record<string, { file: string; size: number; sha256: string }>;
  signatureChecked: boolean;
}

export interface ProgressEvent {
  source: string;
  file: string;
  bytes: number;
  /** Null when upstream did not say how long the file is. */
  total: number | null;
  /** Bytes per second, smoothed. */
  rate: number;
  /** Seconds left, null when unknown. */
  eta: number | null;
  done: boolean;
}

export interface SyncOutcome {
  source: string;
  ok: boolean;
  /** 'published' a new version, 'current' already held, or 'failed'. */
  result: 'published' | 'current' | 'failed';
  version: string | null;
  startedAt: string;
  finishedAt: string;
  error: { code: string; message: string } | null;
  /** Set when the version came from `kindling mirror import` or the page's upload. */
  via?: 'import';
}

export type { MirrorSource };
