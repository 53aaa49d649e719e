// Why ClickHouse refused a statement, in two classes the pipeline acts on differently. A data error is about the
// rows sent (a value ClickHouse cannot parse or hold): sending the same rows again fails again, so the writer
// isolates and dead-letters them. Anything else is treated as infrastructure (unreachable, overloaded, read-only,
// out of memory, a bug in a statement): the rows are fine and the caller stalls and retries. A code not listed is
// infrastructure: stalling on an unknown error loses nothing, dead-lettering a good row would. A third outcome
// belongs to the writer's fence (fence.ts): the sender no longer owns the rows' partitions, so it must neither retry
// nor dead-letter them.
import { FENCED_OUT } from './fence';

/** Error codes (ClickHouse's src/Common/ErrorCodes.cpp) raised by the values of the rows an INSERT carries. */
export const DATA_ERROR_CODES: ReadonlyMap<number, string> = new Map([
  [6, 'CANNOT_PARSE_TEXT'],
  [7, 'INCORRECT_NUMBER_OF_COLUMNS'],
  [17, 'DELIMITER_IN_STRING_LITERAL_DOESNT_MATCH'],
  [19, 'SIZE_OF_FIXED_STRING_DOESNT_MATCH'],
  [21, 'CANNOT_READ_ALL_DATA_FROM_TAB_SEPARATED_INPUT'],
  [22, 'CANNOT_PARSE_ALL_VALUE_FROM_TAB_SEPARATED_INPUT'],
  [25, 'CANNOT_PARSE_ESCAPE_SEQUENCE'],
  [26, 'CANNOT_PARSE_QUOTED_STRING'],
  [27, 'CANNOT_PARSE_INPUT_ASSERTION_FAILED'],
  [38, 'CANNOT_PARSE_DATE'],
  [41, 'CANNOT_PARSE_DATETIME'],
  [53, 'TYPE_MISMATCH'],
  [69, 'ARGUMENT_OUT_OF_BOUND'],
  [70, 'CANNOT_CONVERT_TYPE'],
  [72, 'CANNOT_PARSE_NUMBER'],
  [117, 'INCORRECT_DATA'],
  [120, 'CANNOT_INSERT_VALUE_OF_DIFFERENT_SIZE_INTO_TUPLE'],
  [128, 'TOO_LARGE_ARRAY_SIZE'],
  [130, 'CANNOT_READ_ARRAY_FROM_TEXT'],
  [131, 'TOO_LARGE_STRING_SIZE'],
  [190, 'SIZES_OF_ARRAYS_DOESNT_MATCH'],
  [321, 'VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE'],
  [349, 'CANNOT_INSERT_NULL_IN_ORDINARY_COLUMN'],
  [376, 'CANNOT_PARSE_UUID'],
  [395, 'FUNCTION_THROW_IF_VALUE_IS_NON_ZERO'],
  [407, 'DECIMAL_OVERFLOW'],
  [441, 'CANNOT_PARSE_DOMAIN_VALUE_FROM_STRING'],
  [467, 'CANNOT_PARSE_BOOL'],
  [469, 'VIOLATED_CONSTRAINT'],
  [546, 'NO_ROW_DELIMITER'],
]);

/**
 * Codes that name an infrastructure condition, listed so the choice is explicit (every unlisted code is treated the
 * same way): time limits, overload, read-only or broken tables, memory, network, access, a missing table.
 */
export const INFRASTRUCTURE_ERROR_CODES: ReadonlyMap<number, string> = new Map([
  [16, 'NO_SUCH_COLUMN_IN_TABLE'],
  [60, 'UNKNOWN_TABLE'],
  [62, 'SYNTAX_ERROR'],
  [81, 'UNKNOWN_DATABASE'],
  [159, 'TIMEOUT_EXCEEDED'],
  [164, 'READONLY'],
  [173, 'CANNOT_ALLOCATE_MEMORY'],
  [202, 'TOO_MANY_SIMULTANEOUS_QUERIES'],
  [209, 'SOCKET_TIMEOUT'],
  [210, 'NETWORK_ERROR'],
  [236, 'ABORTED'],
  [241, 'MEMORY_LIMIT_EXCEEDED'],
  [242, 'TABLE_IS_READ_ONLY'],
  [243, 'NOT_ENOUGH_SPACE'],
  [252, 'TOO_MANY_PARTS'],
  [394, 'QUERY_WAS_CANCELLED'],
  [396, 'TOO_MANY_ROWS_OR_BYTES'],
  [497, 'ACCESS_DENIED'],
  [516, 'AUTHENTICATION_FAILED'],
]);

/**
 * `fenced`: the writer that sent the statement no longer owns a partition of its rows (fence.ts); nothing was
 * stored, and sending it again would fail the same way.
 */
export type FailureKind = 'data' | 'infrastructure' | 'fenced';

export interface Failure {
  kind: FailureKind;
  /** ClickHouse's error code, when the error came from ClickHouse */
  code?: number;
  /** the code's name, when known */
  name?: string;
  message: string;
}

/**
 * ClickHouse's error code of `err`: the `code` the HTTP client parsed from the reply, else the "Code: N." that
 * ClickHouse puts at the start of its messages (the embedded engine reports errors that way).
 */
export function clickhouseErrorCode(err: unknown): number | undefined {
  const e = err as { code?: unknown; message?: unknown } | null;
  if (e && (typeof e.code === 'string' || typeof e.code === 'number') && /^\d+$/.test(String(e.code))) return Number(e.code);
  const m = typeof e?.message === 'string' ? /\bCode:\s*(\d+)\b/.exec(e.message) : null;
  return m ? Number(m[1]) : undefined;
}

/** Classifies a failed statement: `data` only for the codes the rows themselves cause. */
export function classifyFailure(err: unknown): Failure {
  const code = clickhouseErrorCode(err);
  const message = err instanceof Error ? err.message : String(err);
  // checked before the codes: the fence's throwIf shares its code with data errors of the rows
  if (message.includes(FENCED_OUT)) return { kind: 'fenced', code, name: code === undefined ? undefined : DATA_ERROR_CODES.get(code), message };
  if (code === undefined) return { kind: 'infrastructure', message };
  const data = DATA_ERROR_CODES.get(code);
  if (data) return { kind: 'data', code, name: data, message };
  const name = INFRASTRUCTURE_ERROR_CODES.get(code) ?? ((err as { type?: unknown }).type as string | undefined);
  return { kind: 'infrastructure', code, name: typeof name === 'string' ? name : undefined, message };
}
