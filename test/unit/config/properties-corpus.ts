/**
 * Hand-picked `.properties` inputs where parsers tend to differ from `java.util.Properties`. The oracle test
 * compares our parser with the JVM on each; none carries a hand-written expectation.
 */
export interface CorpusCase {
  readonly name: string;
  readonly text: string;
}

/** 8192 is the char buffer size of Properties.LineReader; refills must not change the result. */
const BUFFER = 8192;

export const PROPERTIES_CORPUS: readonly CorpusCase[] = [
  // Separators and the blanks around them.
  { name: 'equals', text: 'a=b' },
  { name: 'blanks around equals', text: 'a \t\f= \t\fb' },
  { name: 'colon', text: 'a:b\nc : d' },
  { name: 'blank separator', text: 'a b\nc\t\td\ne\f\fe' },
  { name: 'blanks then colon then equals', text: 'a  :=b' },
  { name: 'second separator is value', text: 'a = = b\nc::d\ne=:f' },
  { name: 'separator inside value', text: 'a=b=c:d e' },
  { name: 'key only', text: 'key\nkey2   \nkey3=' },
  { name: 'empty key', text: '=value\n:value2\n = value3' },
  { name: 'trailing blanks kept in value', text: 'k=v  \t\f' },
  { name: 'leading blanks skipped', text: '   a=1\n\t\fb=2\n \t c=3' },
  // Comments.
  { name: 'comments', text: '# c1\n! c2\n  # c3\n\t! c4\nk=v #not a comment' },
  { name: 'comment ending in backslash does not continue', text: '# comment \\\nnot.continued=yes' },
  { name: 'bang comment ending in backslash', text: '! comment \\\nk=v' },
  { name: 'continuation line starting with #', text: 'a=b\\\n#not a comment\nc=d' },
  { name: 'continuation line starting with !', text: 'a=b\\\n  !also not' },
  { name: 'comment at EOF with no line end', text: 'a=b\n# last' },
  // Continuations.
  { name: 'continuation drops leading blanks', text: 'a=b\\\n   \t\fc' },
  { name: 'continuation keeps trailing blanks before backslash', text: 'a=b  \\\n  c' },
  { name: 'two backslashes do not continue', text: 'a=b\\\\\nc=d' },
  { name: 'three backslashes continue', text: 'a=b\\\\\\\nc' },
  { name: 'four backslashes do not continue', text: 'a=b\\\\\\\\\nc' },
  { name: 'several continuations', text: 'a=1\\\n 2\\\n\t3\\\n  4\nb=5' },
  { name: 'continuation inside key', text: 'ke\\\n  y=v' },
  { name: 'continuation before separator', text: 'key\\\n  = v' },
  { name: 'blank line after continuation', text: 'a=b\\\n\nc=d' },
  { name: 'blank-only line after continuation', text: 'a=b\\\n   \nc=d' },
  { name: 'continuation over CRLF', text: 'a=b\\\r\n  c\r\nd=e' },
  { name: 'continuation over CR', text: 'a=b\\\r  c\rd=e' },
  { name: 'continuation then bare CR then LF', text: 'a=b\\\r\r\nc=d' },
  { name: 'continuation then LF CR', text: 'a=b\\\n\r c=d' },
  // Backslash at end of input.
  { name: 'backslash at EOF', text: 'a=b\\' },
  { name: 'backslash and LF at EOF', text: 'a=b\\\n' },
  { name: 'backslash and CRLF at EOF', text: 'a=b\\\r\n' },
  { name: 'trailing backslash after a continuation at EOF', text: 'a=b\\\nc\\' },
  { name: 'continuation to a blank-only last line', text: 'a=b\\\n   ' },
  { name: 'lone backslash', text: '\\' },
  { name: 'lone backslash LF', text: '\\\n' },
  { name: 'lone backslash CR', text: '\\\r' },
  { name: 'lone backslash CRLF', text: '\\\r\n' },
  { name: 'lone backslash then blanks', text: '\\\n  ' },
  { name: 'lone backslash then # line', text: '\\\n#c=1\nk=v' },
  { name: 'lone backslashes then key', text: '\\\n\\\n  key=v' },
  { name: 'lone backslash then blank line', text: '\\\n\nk=v' },
  { name: 'even backslashes at EOF', text: 'k=v\\\\\\\\' },
  { name: 'backslash last after entries', text: 'a=b\n\\' },
  // Escaped separators and escapes.
  { name: 'escaped equals in key', text: 'a\\=b=c' },
  { name: 'escaped colon in key', text: 'a\\:b:c\nx\\:=y' },
  { name: 'escaped blank in key', text: 'a\\ b c\n\\ =space\n\\\t=tab' },
  { name: 'escaped backslash then separator', text: 'a\\\\=b\nc\\\\\\=d=e' },
  { name: 'escaped hash and bang keys', text: '\\#k=v\n\\!k=w' },
  { name: 'simple escapes', text: 'k=\\t\\n\\r\\f|\\b\\a\\e\\0\\"\\\'\\\\' },
  { name: 'unicode escapes in key and value', text: '\\u0041\\u0062c=\\u00e9\\u00E9\\u20aC' },
  { name: 'unicode escape for a separator in key', text: '\\u003d\\u003a\\u0020=v' },
  { name: 'surrogate pair escape', text: 'k=\\uD83D\\uDE00 \\uD800 lone' },
  { name: 'unicode escape then digits', text: 'k=\\u00411' },
  { name: 'escaped backslash before u', text: 'k=\\\\u0041' },
  { name: 'uppercase U is not an escape', text: 'k=\\U0041' },
  { name: 'unicode escape for control chars', text: 'k=\\u0009\\u000a\\u000d\\u0000' },
  { name: 'unicode escape split by a continuation', text: 'k=\\u00\\\n   41' },
  // Malformed unicode escapes.
  { name: 'short unicode escape', text: 'k=\\u00' },
  { name: 'non-hex unicode escape', text: 'k=\\u12G4' },
  { name: 'unicode escape at end of line', text: 'k=\\u\nj=v' },
  { name: 'malformed unicode escape in key', text: '\\uZZZZ=v' },
  { name: 'short unicode escape in key before separator', text: '\\u00=v' },
  { name: 'malformed escape after good entries', text: 'a=1\nb=2\nc=\\u+123' },
  // Line ends, blank lines, duplicates.
  { name: 'mixed line ends', text: 'a=1\r\nb=2\rc=3\nd=4\r\n\r\n\n\re=5' },
  { name: 'blank-only lines', text: '   \n\t\n\f\n \t\f \r\n' },
  { name: 'empty input', text: '' },
  { name: 'line ends only', text: '\n\r\n\r' },
  { name: 'duplicates: last wins', text: 'a=1\nb=2\na=3\nc=4\na=5' },
  { name: 'numeric keys keep file order', text: '2=two\n1=one\nb=bee\n0=zero' },
  { name: 'prototype-looking keys', text: '__proto__=x\nconstructor=y\ntoString=z\nhasOwnProperty' },
  // Characters.
  { name: 'byte order mark', text: '\uFEFFk=v\n\uFEFF=w' },
  { name: 'raw non-ASCII', text: 'clé=välue €\n😀=🙂\nk=日本' },
  { name: 'NUL and control chars', text: 'a\u0000b=c\u0001\u007f' },
  { name: 'lone surrogates raw', text: 'k=\uD800\nj\uDC00=v' },
  { name: 'non-breaking space is not a blank', text: '\u00a0k=v\nk2\u00a0v' },
  { name: 'vertical tab is not a blank', text: '\u000bk=v\nk2\u000bv' },
  // LineReader buffer refills (8192 chars).
  { name: 'long value', text: `k=${'x'.repeat(3 * BUFFER)}\nj=y` },
  { name: 'CRLF continuation across a buffer edge', text: `k=${'x'.repeat(BUFFER - 3)}\\\r\n  y\nj=z` },
  { name: 'CRLF continuation just before a buffer edge', text: `k=${'x'.repeat(BUFFER - 4)}\\\r\n  y` },
  { name: 'backslash LF at a buffer edge', text: `k=${'x'.repeat(BUFFER - 4)}\\\n` },
  { name: 'comment across a buffer edge', text: `#${'c'.repeat(BUFFER + 10)}\\\nk=v` },
  { name: 'blank lines across a buffer edge', text: `${'\n'.repeat(BUFFER - 1)}\\\n\r\nk=v` },
];
