import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * A member of a KIP-848 consumer group (`group.protocol=consumer`), as a Kafka Connect 4.x sink configured
 * so would be: it subscribes to a topic in a group, commits an offset of partition 0 as a member, prints
 * `READY <member id>` and stays a member (polling, heartbeats in the background) until its stdin closes;
 * then it prints partition 0's committed offset as `COMMITTED <offset>` and leaves the group.
 *
 * Run with the kafka-clients 4.x jar on the classpath:
 * `java -cp <kafka 4 classpath> Kip848Member.java <bootstrap> <group> <topic> <offset>`.
 */
public final class Kip848Member {
  public static void main(String[] args) throws Exception {
    String bootstrap = args[0];
    String group = args[1];
    String topic = args[2];
    long offset = Long.parseLong(args[3]);
    Properties props = new Properties();
    props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.put(ConsumerConfig.GROUP_ID_CONFIG, group);
    props.put(ConsumerConfig.GROUP_PROTOCOL_CONFIG, "consumer");
    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    TopicPartition partition0 = new TopicPartition(topic, 0);
    AtomicBoolean stop = new AtomicBoolean(false);
    Thread stdin = new Thread(() -> {
      try (BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
        while (in.readLine() != null) {
          // Anything before end of input is ignored.
        }
      } catch (Exception ignored) {
        // A broken stdin ends the member like a closed one.
      }
      stop.set(true);
    });
    stdin.setDaemon(true);
    stdin.start();
    try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props)) {
      consumer.subscribe(List.of(topic));
      while (!consumer.assignment().contains(partition0)) {
        if (stop.get()) return;
        consumer.poll(Duration.ofMillis(100));
      }
      consumer.commitSync(Map.of(partition0, new OffsetAndMetadata(offset)));
      System.out.println("READY " + consumer.groupMetadata().memberId());
      System.out.flush();
      while (!stop.get()) consumer.poll(Duration.ofMillis(100));
      OffsetAndMetadata committed = consumer.committed(java.util.Set.of(partition0)).get(partition0);
      System.out.println("COMMITTED " + (committed == null ? -1 : committed.offset()));
      System.out.flush();
    }
  }
}
