{
  "targets": [
    {
      "target_name": "brook_crc32c",
      "sources": ["crc32c.c"],
      "cflags": ["-O3", "-Wall"]
    }
  ]
}
