import com.fasterxml.jackson.core.StreamWriteFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.producer.internals.BuiltInPartitioner;
import org.apache.kafka.common.utils.Utils;

/**
 * Test oracle for connect-fn's connect-offsets codec: answers what Kafka's own code does. Run with the
 * kafka-clients classpath the stack resolves (it brings the Jackson that Kafka 3.9 ships with):
 * `java -cp <kafka.classpath> test/java/ConnectOffsetsOracle.java`.
 *
 * It re-creates, from Kafka's and Jackson's own classes, the two steps Connect's OffsetStorageWriter takes
 * with its internal JsonConverter (schemas.enable=false): JsonConverter.convertToJson for schemaless values
 * (Long -> numberNode(long), Double -> numberNode(double), String -> textNode, Map -> ObjectNode in
 * iteration order, List -> ArrayNode) and JsonSerializer (a plain ObjectMapper with
 * findAndRegisterModules, writeValueAsBytes). connect-json itself is not on the broker's classpath.
 *
 * Protocol: one JSON request per line on stdin, one JSON answer per line on stdout, both ASCII.
 *   {"op":"encode","value":T,"partitions":[n,...]}
 *       -> {"bytes":b64,"fastBytes":b64,"murmur2":int,"toPositive":int,"partitionFor":[int,...]}
 *          bytes: JsonSerializer's output (doubles via the JDK's Double.toString);
 *          fastBytes: the same with Jackson's USE_FAST_DOUBLE_WRITER (Schubfach, = JDK 19+ Double.toString);
 *          partitionFor: BuiltInPartitioner.partitionForKey(bytes, n), the producer's default partitioner.
 *   {"op":"murmur2","bytes":b64} -> {"murmur2":int,"toPositive":int}
 *   {"op":"decode","bytes":b64} -> {"value":T}  how JsonConverter.toConnectData (schemaless) types it
 * T, a typed value: {"t":"null"} | {"t":"boolean","v":bool} | {"t":"string","v":str}
 *   | {"t":"long","v":"<decimal>"} | {"t":"double","v":"<Java or JS double literal>","bits":"<hex>"}
 *   | {"t":"list","items":[T...]} | {"t":"map","entries":[[str,T]...]}
 * Errors answer {"error":"<class>: <message>"}.
 */
public final class ConnectOffsetsOracle {
  private static final JsonNodeFactory NODES = new JsonNodeFactory(true);
  private static final ObjectMapper PROTOCOL = new ObjectMapper();
  private static final ObjectMapper CONNECT = new ObjectMapper().findAndRegisterModules();
  private static final ObjectMapper FAST =
      JsonMapper.builder().enable(StreamWriteFeature.USE_FAST_DOUBLE_WRITER).build();

  public static void main(String[] args) throws IOException {
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.US_ASCII));
    Writer out = new BufferedWriter(new OutputStreamWriter(System.out, StandardCharsets.US_ASCII), 1 << 16);
    String request;
    while ((request = in.readLine()) != null) {
      String answer;
      try {
        answer = asciiJson(answer(PROTOCOL.readTree(request)));
      } catch (Exception e) {
        ObjectNode error = NODES.objectNode();
        error.put("error", e.getClass().getName() + ": " + e.getMessage());
        answer = asciiJson(error);
      }
      out.write(answer);
      out.write('\n');
      if (!in.ready()) out.flush();
    }
    out.flush();
  }

  private static JsonNode answer(JsonNode request) throws IOException {
    String op = request.get("op").asText();
    ObjectNode answer = NODES.objectNode();
    switch (op) {
      case "encode": {
        JsonNode node = toJson(toJava(request.get("value")));
        byte[] bytes = CONNECT.writeValueAsBytes(node);
        answer.put("bytes", Base64.getEncoder().encodeToString(bytes));
        answer.put("fastBytes", Base64.getEncoder().encodeToString(FAST.writeValueAsBytes(node)));
        answer.put("murmur2", Utils.murmur2(bytes));
        answer.put("toPositive", Utils.toPositive(Utils.murmur2(bytes)));
        ArrayNode partitions = answer.putArray("partitionFor");
        JsonNode counts = request.get("partitions");
        if (counts != null) {
          for (JsonNode n : counts) partitions.add(BuiltInPartitioner.partitionForKey(bytes, n.asInt()));
        }
        return answer;
      }
      case "murmur2": {
        byte[] bytes = Base64.getDecoder().decode(request.get("bytes").asText());
        answer.put("murmur2", Utils.murmur2(bytes));
        answer.put("toPositive", Utils.toPositive(Utils.murmur2(bytes)));
        return answer;
      }
      case "decode": {
        byte[] bytes = Base64.getDecoder().decode(request.get("bytes").asText());
        answer.set("value", typed(CONNECT.readTree(bytes)));
        return answer;
      }
      default:
        throw new IllegalArgumentException("unknown op " + op);
    }
  }

  /** A typed request value as the Java object a Connect task would put in its maps. */
  private static Object toJava(JsonNode typed) {
    String t = typed.get("t").asText();
    switch (t) {
      case "null":
        return null;
      case "boolean":
        return typed.get("v").asBoolean();
      case "string":
        return typed.get("v").asText();
      case "long":
        return Long.parseLong(typed.get("v").asText());
      case "double":
        return Double.longBitsToDouble(Long.parseUnsignedLong(typed.get("bits").asText(), 16));
      case "list": {
        List<Object> list = new ArrayList<>();
        for (JsonNode item : typed.get("items")) list.add(toJava(item));
        return list;
      }
      case "map": {
        Map<String, Object> map = new LinkedHashMap<>();
        for (JsonNode entry : typed.get("entries")) map.put(entry.get(0).asText(), toJava(entry.get(1)));
        return map;
      }
      default:
        throw new IllegalArgumentException("unknown type " + t);
    }
  }

  /** JsonConverter.convertToJson(null, value) for the types offsets may hold. */
  private static JsonNode toJson(Object value) {
    if (value == null) return NODES.nullNode();
    if (value instanceof Long) return NODES.numberNode((Long) value);
    if (value instanceof Double) return NODES.numberNode((Double) value);
    if (value instanceof Boolean) return NODES.booleanNode((Boolean) value);
    if (value instanceof String) return NODES.textNode((String) value);
    if (value instanceof List) {
      ArrayNode list = NODES.arrayNode();
      for (Object item : (List<?>) value) list.add(toJson(item));
      return list;
    }
    ObjectNode object = NODES.objectNode();
    for (Map.Entry<?, ?> entry : ((Map<?, ?>) value).entrySet()) {
      object.set((String) entry.getKey(), toJson(entry.getValue()));
    }
    return object;
  }

  /** JsonConverter.convertToConnect(null, node): integral numbers are int64, other numbers float64. */
  private static JsonNode typed(JsonNode node) {
    ObjectNode typed = NODES.objectNode();
    switch (node.getNodeType()) {
      case NULL:
        typed.put("t", "null");
        break;
      case BOOLEAN:
        typed.put("t", "boolean").put("v", node.booleanValue());
        break;
      case STRING:
        typed.put("t", "string").put("v", node.textValue());
        break;
      case NUMBER:
        if (node.isIntegralNumber()) {
          typed.put("t", "long").put("v", Long.toString(node.longValue()));
        } else {
          double d = node.doubleValue();
          typed.put("t", "double").put("v", Double.toString(d));
          typed.put("bits", Long.toHexString(Double.doubleToRawLongBits(d)));
        }
        break;
      case ARRAY: {
        typed.put("t", "list");
        ArrayNode items = typed.putArray("items");
        for (JsonNode item : node) items.add(typed(item));
        break;
      }
      case OBJECT: {
        typed.put("t", "map");
        ArrayNode entries = typed.putArray("entries");
        Iterator<Map.Entry<String, JsonNode>> fields = node.fields();
        while (fields.hasNext()) {
          Map.Entry<String, JsonNode> field = fields.next();
          entries.addArray().add(field.getKey()).add(typed(field.getValue()));
        }
        break;
      }
      default:
        throw new IllegalArgumentException("not JSON data: " + node.getNodeType());
    }
    return typed;
  }

  /** JSON with every char outside printable ASCII as \\uXXXX, so lone surrogates survive the pipe. */
  private static String asciiJson(JsonNode node) throws IOException {
    String json = PROTOCOL.writeValueAsString(node);
    StringBuilder out = new StringBuilder(json.length());
    for (int i = 0; i < json.length(); i++) {
      char c = json.charAt(i);
      if (c >= 0x20 && c < 0x7f) out.append(c);
      else out.append(String.format("\\u%04x", (int) c));
    }
    return out.toString();
  }
}
