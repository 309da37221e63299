/** The benchmark's no-op Kafka handler: receives the batch and does nothing with it. */
export const handler = async () => {};
