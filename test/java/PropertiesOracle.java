import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Reader;
import java.io.StringReader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

/**
 * Test oracle for connect-fn's .properties parser: answers how the JVM's own java.util.Properties.load
 * reads an input. Run with `java test/java/PropertiesOracle.java` (single-file source launch, Java 11+).
 *
 * Protocol, one request per line on stdin, one answer per line on stdout, both pure ASCII:
 *   S<json string>  load(Reader) on a StringReader over the decoded string
 *   U<json string>  load(Reader) on the file at that path, decoded as UTF-8 (InputStreamReader)
 *   L<json string>  load(InputStream) on the file at that path, i.e. ISO-8859-1 (what Kafka Connect does)
 * Answers:
 *   {"puts":[["key","value"],...]}       every put() that load made, in call order
 *   {"error":"<class>","message":"..."}  the exception load threw
 * Strings are JSON-escaped with every non-printable-ASCII char as \\uXXXX, so lone surrogates survive.
 * Output is flushed whenever no more input is buffered, so a client may send a whole batch at once.
 */
public final class PropertiesOracle {
  public static void main(String[] args) throws IOException {
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.US_ASCII));
    Writer out = new BufferedWriter(new OutputStreamWriter(System.out, StandardCharsets.US_ASCII), 1 << 16);
    String request;
    while ((request = in.readLine()) != null) {
      out.write(answer(request));
      out.write('\n');
      if (!in.ready()) out.flush();
    }
    out.flush();
  }

  private static String answer(String request) {
    List<String[]> puts = new ArrayList<>();
    Properties props = new Properties() {
      @Override
      public synchronized Object put(Object key, Object value) {
        puts.add(new String[] {(String) key, (String) value});
        return super.put(key, value);
      }
    };
    try {
      char mode = request.charAt(0);
      String arg = parseJsonString(request, 1);
      if (mode == 'S') {
        props.load(new StringReader(arg));
      } else if (mode == 'U') {
        try (Reader r = new InputStreamReader(new FileInputStream(arg), StandardCharsets.UTF_8)) {
          props.load(r);
        }
      } else if (mode == 'L') {
        try (InputStream s = new FileInputStream(arg)) {
          props.load(s);
        }
      } else {
        throw new IllegalStateException("oracle: unknown mode " + mode);
      }
    } catch (Exception e) {
      String message = e.getMessage() == null ? "" : e.getMessage();
      return "{\"error\":" + json(e.getClass().getName()) + ",\"message\":" + json(message) + "}";
    }
    StringBuilder sb = new StringBuilder("{\"puts\":[");
    for (int i = 0; i < puts.size(); i++) {
      if (i > 0) sb.append(',');
      sb.append('[').append(json(puts.get(i)[0])).append(',').append(json(puts.get(i)[1])).append(']');
    }
    return sb.append("]}").toString();
  }

  /** Parses the JSON string literal starting at `start`; only what JSON.stringify can produce. */
  private static String parseJsonString(String s, int start) {
    if (s.charAt(start) != '"') throw new IllegalStateException("oracle: expected a JSON string");
    StringBuilder sb = new StringBuilder();
    int i = start + 1;
    while (true) {
      char c = s.charAt(i++);
      if (c == '"') return sb.toString();
      if (c != '\\') {
        sb.append(c);
        continue;
      }
      char e = s.charAt(i++);
      switch (e) {
        case '"': case '\\': case '/': sb.append(e); break;
        case 'b': sb.append('\b'); break;
        case 'f': sb.append('\f'); break;
        case 'n': sb.append('\n'); break;
        case 'r': sb.append('\r'); break;
        case 't': sb.append('\t'); break;
        case 'u': sb.append((char) Integer.parseInt(s.substring(i, i + 4), 16)); i += 4; break;
        default: throw new IllegalStateException("oracle: bad JSON escape \\" + e);
      }
    }
  }

  private static String json(String s) {
    StringBuilder sb = new StringBuilder(s.length() + 2).append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '"' || c == '\\') {
        sb.append('\\').append(c);
      } else if (c < 0x20 || c > 0x7e) {
        sb.append(String.format("\\u%04x", (int) c));
      } else {
        sb.append(c);
      }
    }
    return sb.append('"').toString();
  }
}
