/**
 * Bytes in decimal units, as the Hub and disk tools show sizes: 17_200_000_000 → "17.2 GB",
 * 9_000_000_000 → "9.0 GB", 850_000_000 → "850 MB", 12_000 → "12.0 kB". One decimal below 100.
 * The one byte formatter of the product: the terminal, the dashboard and doctor say a size alike.
 */
export function formatBytes(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let value = Math.max(0, bytes);
  let unit = 0;
  while (value >= 999.95 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return `${unit === 0 || value >= 99.95 ? String(Math.round(value)) : value.toFixed(1)} ${units[unit] ?? 'B'}`;
}
