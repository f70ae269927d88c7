"""City-scale benchmark: a synthetic Chongqing, a bare pandas peer, the parse floor and the pipeline side by side."""
