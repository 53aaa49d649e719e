import { revenueOf } from './records';

describe('revenueOf', () => {
  it.each<[string, { revenue: number | null; price: number | null; quantity: number | null }, number | null]>([
    ['price times quantity when revenue is absent', { revenue: null, price: 9.5, quantity: 3 }, 28.5],
    ['quantity 1 when absent', { revenue: null, price: 9.5, quantity: null }, 9.5],
    ['a refund', { revenue: null, price: -20, quantity: 2 }, -40],
    ['revenue as sent, whatever price and quantity say', { revenue: 12, price: 9.5, quantity: 3 }, 12],
    ['revenue 0 as sent', { revenue: 0, price: 9.5, quantity: 3 }, 0],
    ['none without price or revenue', { revenue: null, price: null, quantity: 3 }, null],
    ['none when the product is no finite number', { revenue: null, price: 1e308, quantity: 10 }, null],
  ])('%s', (_name, e, expected) => {
    expect(revenueOf(e)).toBe(expected);
  });
});
