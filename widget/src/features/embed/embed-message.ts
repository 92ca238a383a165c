import type { EmbedMessage } from '@calbridge/shared';
import { isObj, isStr } from '../../shared/lib/read.js';

export type { EmbedMessage };

const NS = /^[A-Za-z0-9_-]{1,64}$/;
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isOpt = (v: unknown, t: string) => v === undefined || typeof v === t;

const booking = (d: Record<string, unknown>) =>
  isStr(d.uid, 100) && isOpt(d.title, 'string') && isOpt(d.startTime, 'string') && isOpt(d.endTime, 'string') &&
  (d.eventTypeId == null || Number.isSafeInteger(d.eventTypeId)) && isOpt(d.status, 'string') &&
  typeof d.paymentRequired === 'boolean' && typeof d.isRecurring === 'boolean';
const DATA: Record<string, (d: Record<string, unknown>) => boolean> = {
  bookingSuccessfulV2: booking,
  rescheduleBookingSuccessfulV2: booking,
  __dimensionChanged: (d) =>
    isNum(d.iframeHeight) && d.iframeHeight >= 0 && isNum(d.iframeWidth) && d.iframeWidth >= 0 && typeof d.isFirstTime === 'boolean',
  linkFailed: (d) => isStr(d.code, 1e4, 0) && isStr(d.msg, 1e4, 0) && isObj(d.data) && isStr(d.data.url, 1e4, 0),
  linkReady: () => true,
  __iframeReady: () => true,
};

/** Mirrors `EmbedMessage` from @calbridge/shared; null for anything else, including types we do not act on. */
export function readEmbedMessage(v: unknown): EmbedMessage | null {
  if (!isObj(v) || v.originator !== 'CAL' || !isStr(v.type, 64) || !isStr(v.namespace, 64) || !NS.test(v.namespace)) return null;
  const check = Object.hasOwn(DATA, v.type) ? DATA[v.type] : undefined;
  return check && v.fullType === `CAL:${v.namespace}:${v.type}` && isObj(v.data) && check(v.data) ? (v as EmbedMessage) : null;
}
