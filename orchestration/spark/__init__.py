"""Apache Spark as the warehouse: configuration, the Thrift servers, the raw layer's parquet."""
