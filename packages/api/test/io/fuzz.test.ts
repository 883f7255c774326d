/** Robustness: arbitrary text never fails parsing with anything but a DocumentsError. */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DocumentsError, parseDocuments } from '../../src/index.js';

describe('parseDocuments robustness', () => {
  it('reports an undefined YAML alias as a syntax error', () => {
    expect(() => parseDocuments('a: 1\n---\nb: *x\n', 'f.yaml')).toThrow(/^f\.yaml: line 3, column 4: Unresolved alias/);
  });

  it('arbitrary text gives a DocumentsError or resources', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 80 }), fc.stringMatching(/^[-*&!:{}[\],|>'"# \nab1]{0,40}$/)), (text) => {
        try {
          parseDocuments(text, 'f.yaml');
        } catch (e: unknown) {
          if (!(e instanceof DocumentsError)) throw e;
          expect(e.message.startsWith('f.yaml: ')).toBe(true);
        }
      }),
      { numRuns: 500 },
    );
  });
});
