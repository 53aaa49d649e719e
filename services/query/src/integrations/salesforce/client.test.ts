import { errorOf, isRetryable } from './client';

describe('Salesforce error replies', () => {
  it.each([
    [401, [{ message: 'Session expired or invalid', errorCode: 'INVALID_SESSION_ID' }], 'INVALID_SESSION_ID', 'Session expired or invalid'],
    [403, [{ message: 'TotalRequests Limit exceeded.', errorCode: 'REQUEST_LIMIT_EXCEEDED' }], 'REQUEST_LIMIT_EXCEEDED', 'TotalRequests Limit exceeded.'],
    [400, [{ message: "No such column 'Foo__c' on entity 'Account'.", errorCode: 'INVALID_FIELD' }], 'INVALID_FIELD', "No such column 'Foo__c' on entity 'Account'."],
    [400, { message: 'one object', errorCode: 'MALFORMED_QUERY' }, 'MALFORMED_QUERY', 'one object'],
    [400, { error: 'invalid_client', error_description: 'invalid client credentials' }, 'invalid_client', 'invalid client credentials'],
    [502, null, 'HTTP_502', 'Salesforce answered HTTP 502'],
    [500, '<html>', 'HTTP_500', 'Salesforce answered HTTP 500'],
  ])('reads the error of HTTP %i', (status, body, code, message) => {
    expect(errorOf(status, body)).toEqual({ code, message });
  });

  it.each([
    [403, 'REQUEST_LIMIT_EXCEEDED', true],
    [429, 'HTTP_429', true],
    [500, 'UNKNOWN_EXCEPTION', true],
    [503, 'SERVER_UNAVAILABLE', true],
    [400, 'INVALID_FIELD', false],
    [400, 'MALFORMED_QUERY', false],
    [401, 'INVALID_SESSION_ID', false],
    [403, 'INSUFFICIENT_ACCESS', false],
    [404, 'NOT_FOUND', false],
  ])('HTTP %i %s retryable: %p', (status, code, expected) => {
    expect(isRetryable(status, code)).toBe(expected);
  });
});
