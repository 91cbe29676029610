import { describe, expect, it } from 'vitest';
import { ConnectFnError, Stage } from '../../../src/errors.ts';
import { summaryError } from '../../../src/runtime/summary.ts';

class Lost extends ConnectFnError {
  readonly code = 'TEST_LOST';
}

describe('summaryError', () => {
  it("keeps an error's code, message, stage and whether a retry may help", () => {
    expect(summaryError(new Lost('connection reset', { retriable: true, stage: Stage.TASK_PUT }))).toEqual({
      code: 'TEST_LOST',
      message: 'connection reset',
      stage: Stage.TASK_PUT,
      retriable: true,
    });
    expect(summaryError(new Lost('bad config'))).toEqual({
      code: 'TEST_LOST',
      message: 'bad config',
      retriable: false,
    });
  });

  it('calls an error of unknown kind unexpected, and not retriable', () => {
    expect(summaryError(new TypeError('x is undefined'))).toEqual({
      code: 'CONNECT_FN_UNEXPECTED',
      message: 'x is undefined',
      retriable: false,
    });
  });
});
