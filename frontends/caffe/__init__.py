"""The Caffe frontend: deploy .prototxt + binary .caffemodel to a mo Graph, read without caffe
(protobuf is the only dependency: mo[caffe])."""
from .loader import detect, load

__all__ = ["detect", "load"]
