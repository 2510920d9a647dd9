import { SlottedCheckpointStore, type CheckpointByteStore } from './slotted-checkpoint-store';

class Bytes implements CheckpointByteStore {
  readonly objects = new Map<string, Uint8Array>();
  writes: string[] = [];
  async put(key: string, data: Uint8Array): Promise<void> {
    this.writes.push(key);
    this.objects.set(key, data.slice());
  }
  async get(key: string): Promise<Uint8Array | null> {
    return this.objects.get(key)?.slice() ?? null;
  }
}

const bytes = (...values: number[]) => new Uint8Array(values);

describe('SlottedCheckpointStore', () => {
  it('returns the latest save, alternating between two slots', async () => {
    const raw = new Bytes();
    const store = new SlottedCheckpointStore(raw);
    expect(await store.load('phase-0')).toBeNull();
    await store.save('phase-0', bytes(1));
    await store.save('phase-0', bytes(2));
    await store.save('phase-0', bytes(3));
    expect(raw.writes).toEqual(['phase-0.1', 'phase-0.0', 'phase-0.1']);
    expect(await store.load('phase-0')).toEqual(bytes(3));
    expect(await new SlottedCheckpointStore(raw).load('phase-0')).toEqual(bytes(3));
  });

  it('falls back to the previous checkpoint when the newest write was torn or corrupted', async () => {
    const raw = new Bytes();
    const store = new SlottedCheckpointStore(raw);
    await store.save('k', bytes(10, 11, 12));
    await store.save('k', bytes(20, 21, 22));
    const newest = raw.objects.get('k.0')!;
    raw.objects.set('k.0', newest.subarray(0, newest.length - 5)); // truncated
    expect(await new SlottedCheckpointStore(raw).load('k')).toEqual(bytes(10, 11, 12));
    const flipped = newest.slice();
    flipped[14] ^= 0xff; // a flipped bit in the data
    raw.objects.set('k.0', flipped);
    expect(await new SlottedCheckpointStore(raw).load('k')).toEqual(bytes(10, 11, 12));
    raw.objects.set('k.1', bytes(1, 2, 3));
    expect(await new SlottedCheckpointStore(raw).load('k')).toBeNull();
  });

  it('continues the sequence of an earlier writer, so a new process never overwrites the newest slot', async () => {
    const raw = new Bytes();
    const first = new SlottedCheckpointStore(raw);
    for (let i = 1; i <= 3; i++) await first.save('k', bytes(i)); // seq 3 in slot 1
    const second = new SlottedCheckpointStore(raw); // no load before saving
    await second.save('k', bytes(4));
    expect(raw.writes.at(-1)).toBe('k.0');
    expect(await new SlottedCheckpointStore(raw).load('k')).toEqual(bytes(4));
  });
});
