import { classifyFailure, clickhouseErrorCode, DATA_ERROR_CODES, INFRASTRUCTURE_ERROR_CODES } from './errors';
import { FENCED_OUT } from './fence';

const chError = (code: number, type: string) => Object.assign(new Error(`${type}: something`), { code: String(code), type });

describe('classifyFailure', () => {
  it.each([
    [chError(25, 'CANNOT_PARSE_ESCAPE_SEQUENCE'), 'data', 25],
    [chError(27, 'CANNOT_PARSE_INPUT_ASSERTION_FAILED'), 'data', 27],
    [chError(376, 'CANNOT_PARSE_UUID'), 'data', 376],
    [chError(252, 'TOO_MANY_PARTS'), 'infrastructure', 252],
    [chError(164, 'READONLY'), 'infrastructure', 164],
    [chError(159, 'TIMEOUT_EXCEEDED'), 'infrastructure', 159],
    [chError(241, 'MEMORY_LIMIT_EXCEEDED'), 'infrastructure', 241],
    [chError(9999, 'SOMETHING_NEW'), 'infrastructure', 9999],
    // the embedded engine reports the code in the text
    [new Error('Code: 6. DB::Exception: Cannot parse input'), 'data', 6],
    // no code: a network failure
    [Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8123'), { code: 'ECONNREFUSED' }), 'infrastructure', undefined],
    [new Error('socket hang up'), 'infrastructure', undefined],
    // the writer's fence fails with throwIf's code, which rows can raise too: its marker decides
    [chError(395, 'FUNCTION_THROW_IF_VALUE_IS_NON_ZERO'), 'data', 395],
    [new Error(`Code: 395. DB::Exception: ${FENCED_OUT}: another writer owns a partition of this insert`), 'fenced', 395],
  ])('%#: %s -> %s', (err, kind, code) => {
    const f = classifyFailure(err);
    expect([f.kind, f.code]).toEqual([kind, code]);
    expect(clickhouseErrorCode(err)).toBe(code);
  });

  it('never lists a code in both classes', () => {
    for (const code of DATA_ERROR_CODES.keys()) expect(INFRASTRUCTURE_ERROR_CODES.has(code)).toBe(false);
  });
});
