"""The flux2-mock contract suite: checks that any server behaves as the Flux-2 docs say."""
