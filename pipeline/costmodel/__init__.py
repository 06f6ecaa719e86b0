"""Analytic cost models: transformer inference FLOPs and bytes moved per operation with a roofline latency
(transformer.py), the layer shapes of the paper's CNNs (cnn.py), memory needed to train (training_memory.py), the
paper's memory table set beside memwall's (report.py), and this machine's achieved FLOP/s and bandwidth
(measure.py)."""
