export { writeFileAtomic, fsyncDirectory, removeStaleTemps, restrictToOwner } from './atomic-file.js';
export { JsonDocument, readJsonFile, type JsonDocumentOptions } from './json-document.js';
export { EventLog, type EventLogOptions } from './event-log.js';
export { SerialQueue } from './serial-queue.js';
export { Journal, parseJournal, type JournalOptions, type JournalStats } from './journal.js';
