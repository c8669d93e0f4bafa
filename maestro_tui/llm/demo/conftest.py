"""Keep pytest from collecting the sample repo's tests as ours."""

collect_ignore_glob = ["sample_repo/*"]
