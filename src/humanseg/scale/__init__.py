"""Beyond one request: batch jobs over folders and buckets, locally or on Ray, and Ray Serve."""
