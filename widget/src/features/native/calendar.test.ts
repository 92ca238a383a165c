import { expect } from '@open-wc/testing';
import { addDays, moveFocus, pageDays, pageWindow, today, weekday, weekStart } from './calendar.js';

describe('native calendar arithmetic', () => {
  it('should move by whole days across daylight-saving changes and month ends', () => {
    expect(addDays('2026-03-28', 1)).to.equal('2026-03-29');
    expect(addDays('2026-03-29', 1)).to.equal('2026-03-30');
    expect(addDays('2026-12-31', 1)).to.equal('2027-01-01');
    expect(addDays('2026-03-01', -1)).to.equal('2026-02-28');
  });

  it('should start weeks on Monday', () => {
    expect(weekday('2026-11-23')).to.equal(0);
    expect(weekday('2026-11-29')).to.equal(6);
    expect(weekStart('2026-11-29')).to.equal('2026-11-23');
    expect(pageDays('2026-11-23')).to.have.length(28);
  });

  it('should map grid keys to days and ignore other keys', () => {
    const d = '2026-11-26';
    expect(
      ['ArrowLeft', 'ArrowRight', 'ArrowUp', 'ArrowDown', 'Home', 'End', 'PageUp', 'PageDown', 'Tab'].map((k) => moveFocus(d, k)),
    ).to.deep.equal(['2026-11-25', '2026-11-27', '2026-11-19', '2026-12-03', '2026-11-23', '2026-11-29', '2026-10-29', '2026-12-24', null]);
  });

  it('should know today in a time zone, and ask for a day of margin around a page', () => {
    const at = new Date('2026-11-26T23:30:00Z');
    expect(today('UTC', at)).to.equal('2026-11-26');
    expect(today('Asia/Tokyo', at)).to.equal('2026-11-27');
    expect(today('America/Los_Angeles', at)).to.equal('2026-11-26');
    expect(pageWindow('2026-11-23')).to.deep.equal({ start: '2026-11-22T00:00:00Z', end: '2026-12-22T00:00:00Z' });
  });
});
