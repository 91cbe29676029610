import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.connect.file.FileStreamSourceTask;
import org.apache.kafka.connect.json.JsonConverter;
import org.apache.kafka.connect.source.SourceRecord;
import org.apache.kafka.connect.source.SourceTaskContext;
import org.apache.kafka.connect.storage.OffsetStorageReader;
import org.apache.kafka.connect.storage.OffsetUtils;

/**
 * Test oracle: what Kafka Connect's own FileStreamSourceTask does with an offset connect-fn wrote. Run
 * with the classpath test/java/file-source-oracle/pom.xml resolves:
 * `java -cp <classpath> test/java/FileStreamSourceOracle.java <file> <offset value bytes, base64>`.
 *
 * It takes the two steps a Connect worker takes with a committed offset: the offset reader decodes the
 * connect-offsets value with its internal JsonConverter (schemas.enable=false) and checks it with
 * OffsetUtils.validateFormat (OffsetStorageReaderImpl); the task then gets that map from
 * `context.offsetStorageReader().offset({"filename": file})` in its first poll. It polls until a poll
 * returns records (at most 5 polls; an idle poll waits 1 s) and prints one JSON line, ASCII:
 *   {"offset":{"<field>":{"type":"<Java class>","value":...},...},
 *    "records":[{"value":"<line>","sourcePartition":{...},"sourceOffset":{...}},...]}
 * or {"error":"<class>: <message>"}.
 */
public final class FileStreamSourceOracle {
  private static final ObjectMapper JSON = new ObjectMapper();

  public static void main(String[] args) throws Exception {
    ObjectNode answer = JSON.createObjectNode();
    try {
      run(args[0], Base64.getDecoder().decode(args[1]), answer);
    } catch (Exception e) {
      answer.removeAll();
      answer.put("error", e.getClass().getName() + ": " + e.getMessage());
    }
    System.out.println(asciiJson(answer));
  }

  private static void run(String file, byte[] offsetBytes, ObjectNode answer) throws Exception {
    JsonConverter converter = new JsonConverter();
    converter.configure(Map.of("schemas.enable", "false"), false);
    Object decoded = converter.toConnectData("connect-offsets", offsetBytes).value();
    OffsetUtils.validateFormat(decoded);
    @SuppressWarnings("unchecked")
    Map<String, Object> offset = (Map<String, Object>) decoded;
    ObjectNode fields = answer.putObject("offset");
    for (Map.Entry<String, Object> field : offset.entrySet()) {
      ObjectNode typed = fields.putObject(field.getKey());
      typed.put("type", field.getValue().getClass().getName());
      typed.set("value", JSON.valueToTree(field.getValue()));
    }

    FileStreamSourceTask task = new FileStreamSourceTask();
    task.initialize(context(file, offset));
    Map<String, String> props = new HashMap<>();
    props.put("file", file);
    props.put("topic", "lines");
    props.put("batch.size", "2000");
    task.start(props);
    try {
      List<SourceRecord> records = null;
      for (int poll = 0; poll < 5 && (records == null || records.isEmpty()); poll++) records = task.poll();
      ArrayNode out = answer.putArray("records");
      if (records == null) return;
      for (SourceRecord record : records) {
        ObjectNode r = out.addObject();
        r.put("value", (String) record.value());
        r.set("sourcePartition", JSON.valueToTree(record.sourcePartition()));
        r.set("sourceOffset", JSON.valueToTree(record.sourceOffset()));
      }
    } finally {
      task.stop();
    }
  }

  /** A task context whose offset reader answers `offset` for the file's partition, as a worker would. */
  private static SourceTaskContext context(String file, Map<String, Object> offset) {
    OffsetStorageReader reader =
        new OffsetStorageReader() {
          @Override
          public <T> Map<String, Object> offset(Map<String, T> partition) {
            return Map.of("filename", file).equals(partition) ? offset : null;
          }

          @Override
          public <T> Map<Map<String, T>, Map<String, Object>> offsets(Collection<Map<String, T>> partitions) {
            Map<Map<String, T>, Map<String, Object>> result = new HashMap<>();
            for (Map<String, T> partition : partitions) result.put(partition, offset(partition));
            return result;
          }
        };
    return new SourceTaskContext() {
      @Override
      public Map<String, String> configs() {
        return Map.of();
      }

      @Override
      public OffsetStorageReader offsetStorageReader() {
        return reader;
      }
    };
  }

  /** JSON with every char outside printable ASCII as \\uXXXX. */
  private static String asciiJson(Object value) throws Exception {
    String json = JSON.writeValueAsString(value);
    StringBuilder out = new StringBuilder(json.length());
    for (char c : json.toCharArray()) {
      if (c >= 0x20 && c < 0x7f) out.append(c);
      else out.append(String.format("\\u%04x", (int) c));
    }
    return new String(out.toString().getBytes(StandardCharsets.US_ASCII), StandardCharsets.US_ASCII);
  }
}
