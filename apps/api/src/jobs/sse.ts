/** Server-Sent Events wire format (WHATWG HTML §9.2). */

export interface SseMessage {
  id?: string | number;
  event?: string;
  data: unknown;
}

/** One SSE message; `data` is JSON on a single line (JSON.stringify never emits raw newlines). */
export function formatSse(m: SseMessage): string {
  const lines: string[] = [];
  if (m.id !== undefined) lines.push(`id: ${String(m.id).replace(/[\r\n]/g, '')}`);
  if (m.event !== undefined) lines.push(`event: ${m.event.replace(/[\r\n]/g, '')}`);
  lines.push(`data: ${JSON.stringify(m.data)}`);
  return `${lines.join('\n')}\n\n`;
}

/** A comment line: ignored by clients, keeps proxies and load balancers from closing an idle stream. */
export function formatSseComment(text: string): string {
  return `: ${text.replace(/[\r\n]/g, ' ')}\n\n`;
}

/** Whether the client asked for an event stream rather than JSON. */
export function wantsEventStream(accept: string | undefined): boolean {
  return typeof accept === 'string' && /(^|,)\s*text\/event-stream\s*(;|,|$)/i.test(accept);
}

/**
 * Where to resume: `Last-Event-ID` (sent by EventSource on reconnect) wins over `?after=`. Returns
 * the sequence number after which to continue.
 */
export function resumeAfter(lastEventId: string | string[] | undefined, after: number): number {
  const raw = Array.isArray(lastEventId) ? lastEventId[0] : lastEventId;
  if (raw !== undefined && /^\s*\d{1,9}\s*$/.test(raw)) return Number(raw.trim());
  return after;
}
