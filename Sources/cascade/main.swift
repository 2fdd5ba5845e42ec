import Kafka
print(KafkaLibrary.startupLine)
