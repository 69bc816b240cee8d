// A CordonRecordStore in a JSON file, standing in for VS Code's global state in plain-Node tests:
// a second process (a "new extension host") reads what the first one wrote.
import { existsSync, readFileSync, writeFileSync } from 'fs';
import type { CordonRecord, CordonRecordStore } from '../../src/cluster/cordonRecords';

export function fileCordonStore(file: string): CordonRecordStore {
  const all = (): CordonRecord[] => (existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as CordonRecord[]) : []);
  return {
    all,
    add: async (r) => writeFileSync(file, JSON.stringify([...all().filter((x) => x.sessionId !== r.sessionId), r])),
    remove: async (id) => writeFileSync(file, JSON.stringify(all().filter((x) => x.sessionId !== id))),
  };
}
