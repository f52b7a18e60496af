/** A product of the seeded catalog: prices in cents, stock in units. */
export interface CatalogItem {
  sku: string;
  name: string;
  priceCents: number;
  stock: number;
}

/** The shop's seeded catalog: a dozen products. */
export const seedCatalog: readonly CatalogItem[] = [
  { sku: "KB-001", name: "Mechanical keyboard", priceCents: 8900, stock: 25 },
  { sku: "MS-002", name: "Wireless mouse", priceCents: 2900, stock: 40 },
  { sku: "MN-003", name: "27-inch monitor", priceCents: 24900, stock: 8 },
  { sku: "HS-004", name: "Noise-cancelling headset", priceCents: 15900, stock: 12 },
  { sku: "WC-005", name: "HD webcam", priceCents: 5900, stock: 20 },
  { sku: "DK-006", name: "USB-C dock", priceCents: 12900, stock: 10 },
  { sku: "CH-007", name: "Ergonomic chair", priceCents: 32900, stock: 3 },
  { sku: "DS-008", name: "Standing desk", priceCents: 49900, stock: 2 },
  { sku: "LP-009", name: "Desk lamp", priceCents: 3900, stock: 30 },
  { sku: "CB-010", name: "USB-C cable, 2 m", priceCents: 1200, stock: 100 },
  { sku: "SS-011", name: "Portable SSD, 1 TB", priceCents: 9900, stock: 15 },
  { sku: "MP-012", name: "Mouse pad", priceCents: 900, stock: 1 },
];
