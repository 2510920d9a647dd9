/** A safe object-key file name from a client-supplied one: basename only, odd characters replaced. */
export function sourceFileName(name: string): string {
  const base = name.split(/[\\/]/).pop() ?? '';
  const cleaned = base
    .normalize('NFKD')
    .replace(/[^A-Za-z0-9_.@=+ -]/g, '_')
    .replace(/\.{2,}/g, '.')
    .replace(/^[ .]+/, '')
    .trim()
    .slice(0, 200);
  return cleaned || 'upload.bin';
}
