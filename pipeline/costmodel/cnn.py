"""The CNNs of the paper's memory table, defined by their layer shapes, with the parameters and the activations
that training keeps for the backward pass.

Each network is built layer by layer from the input shape, as its paper (or the reference implementation the
memory table's parameter counts come from) defines it. Activations are counted as PyTorch's autograd keeps them
with in-place ReLUs (the torchvision models): convolution, batch norm, linear, average pooling and LRN keep their
input; ReLU keeps its output (the storage it overwrote); max pooling keeps its input and int64 indices; dropout
keeps a 1-byte mask; additions and concatenations keep nothing. A tensor kept by several layers is counted once;
the input batch is data and is not counted.
With activation checkpointing only each block's input is kept, and one block's activations are recomputed at a time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

INDEX_BYTES = 8  # int64 max-pooling indices
MASK_BYTES = 1  # bool dropout mask


@dataclass
class Net:
    """A network under construction; sizes are per sample, in elements."""

    name: str
    input_shape: tuple[int, int, int]
    params: int = 0
    sizes: list[int] = field(default_factory=list)  # storage id -> elements
    created_in: list[int] = field(default_factory=list)  # storage id -> checkpoint segment that created it
    kept: set[int] = field(default_factory=set)  # storages autograd keeps
    extra_bytes: list[float] = field(default_factory=list)  # per segment: indices and masks
    segment_inputs: list[int] = field(default_factory=list)  # storage entering each segment
    x: tuple[int, tuple[int, int, int]] = (0, (0, 0, 0))  # current tensor: (storage id, shape)

    def __post_init__(self) -> None:
        self.segment()
        self.x = self._new(self.input_shape)

    # -- bookkeeping
    def _new(self, shape: tuple[int, int, int]) -> tuple[int, tuple[int, int, int]]:
        self.sizes.append(math.prod(shape))
        self.created_in.append(len(self.segment_inputs) - 1)
        return (len(self.sizes) - 1, shape)

    def segment(self) -> None:
        """Start a checkpoint segment (a block) at the current tensor."""
        self.segment_inputs.append(self.x[0] if self.sizes else 0)
        self.extra_bytes.append(0.0)

    def _keep_input(self) -> None:
        self.kept.add(self.x[0])

    # -- layers
    def conv(self, out: int, k: int, stride: int = 1, pad: int = 0, groups: int = 1, bias: bool = True) -> None:
        c, h, w = self.x[1]
        self.params += out * (c // groups) * k * k + (out if bias else 0)
        self._keep_input()
        self.x = self._new((out, (h + 2 * pad - k) // stride + 1, (w + 2 * pad - k) // stride + 1))

    def bn(self) -> None:
        self.params += 2 * self.x[1][0]
        self._keep_input()
        self.x = self._new(self.x[1])

    def relu(self) -> None:  # in place: keeps its output, which is the storage it overwrote
        self._keep_input()

    def lrn(self) -> None:  # local response normalisation keeps its input and its output
        self._keep_input()
        self.x = self._new(self.x[1])
        self._keep_input()

    def maxpool(self, k: int, stride: int, pad: int = 0) -> None:
        c, h, w = self.x[1]
        self._keep_input()
        self.x = self._new((c, (h + 2 * pad - k) // stride + 1, (w + 2 * pad - k) // stride + 1))
        self.extra_bytes[-1] += INDEX_BYTES * self.sizes[self.x[0]]

    def avgpool(self, k: int | None = None, stride: int | None = None) -> None:
        """k x k average pooling, or global average pooling when k is None."""
        c, h, w = self.x[1]
        self._keep_input()
        self.x = self._new((c, 1, 1) if k is None else (c, (h - k) // stride + 1, (w - k) // stride + 1))

    def fc(self, out: int) -> None:
        self.params += self.sizes[self.x[0]] * out + out
        self._keep_input()
        self.x = self._new((out, 1, 1))

    def dropout(self) -> None:
        self.extra_bytes[-1] += MASK_BYTES * self.sizes[self.x[0]]
        self.x = self._new(self.x[1])

    def add(self, other: tuple[int, tuple[int, int, int]]) -> None:
        self.x = self._new(self.x[1])

    def concat(self, tensors: list[tuple[int, tuple[int, int, int]]]) -> None:
        _, h, w = tensors[0][1]
        self.x = self._new((sum(t[1][0] for t in tensors), h, w))

    # -- results
    def activation_bytes(self, bytes_per_value: int = 4) -> float:
        """Bytes per sample that the forward pass creates and keeps for the backward pass (the input batch itself,
        storage 0, is data, not an activation)."""
        return bytes_per_value * sum(self.sizes[i] for i in self.kept - {0}) + sum(self.extra_bytes)

    def checkpointed_activation_bytes(self, bytes_per_value: int = 4) -> float:
        """Bytes per sample when only each segment's input is kept and one segment is recomputed at a time."""
        inputs = bytes_per_value * sum(self.sizes[i] for i in set(self.segment_inputs) - {0})
        inside = [0.0] * len(self.segment_inputs)
        for i in self.kept - {0}:
            inside[self.created_in[i]] += bytes_per_value * self.sizes[i]
        return inputs + max(k + e for k, e in zip(inside, self.extra_bytes, strict=True))


def alexnet() -> Net:
    """Krizhevsky et al. 2012 (227 x 227 input; conv2, conv4, conv5 split in two groups), as Caffe's bvlc_alexnet."""
    n = Net("AlexNet", (3, 227, 227))
    for out, k, stride, pad, groups, norm, pool in [
        (96, 11, 4, 0, 1, True, True),
        (256, 5, 1, 2, 2, True, True),
        (384, 3, 1, 1, 1, False, False),
        (384, 3, 1, 1, 2, False, False),
        (256, 3, 1, 1, 2, False, True),
    ]:
        n.segment()
        n.conv(out, k, stride, pad, groups)
        n.relu()
        if norm:
            n.lrn()
        if pool:
            n.maxpool(3, 2)
    _classifier(n, dropout=True)
    return n


def vgg19() -> Net:
    """Simonyan & Zisserman 2014, configuration E (16 conv layers of 3 x 3, five max-pools, three FC layers)."""
    n = Net("VGG19", (3, 224, 224))
    for channels, repeat in [(64, 2), (128, 2), (256, 4), (512, 4), (512, 4)]:
        n.segment()  # checkpoint segments: the five stages between max-pools
        for _ in range(repeat):
            n.conv(channels, 3, 1, 1)
            n.relu()
        n.maxpool(2, 2)
    _classifier(n, dropout=True)
    return n


def _classifier(n: Net, dropout: bool) -> None:
    for out in (4096, 4096):
        n.segment()
        n.fc(out)
        n.relu()
        if dropout:
            n.dropout()
    n.fc(1000)


def resnet(
    name: str, blocks: tuple[int, ...], groups: int = 1, width_per_group: int = 64, stride_on_1x1: bool = False
) -> Net:
    """Bottleneck ResNet. He et al. 2015 downsample with stride 2 on the first 1 x 1 convolution of a stage
    (`stride_on_1x1`, their released Caffe models); torchvision and ResNeXt (Xie et al. 2016, groups > 1, block
    width = planes * width_per_group / 64 * groups) put the stride on the 3 x 3 convolution."""
    n = Net(name, (3, 224, 224))
    n.conv(64, 7, 2, 3, bias=False)
    n.bn()
    n.relu()
    n.maxpool(3, 2, 1)
    for stage, (planes, count) in enumerate(zip((64, 128, 256, 512), blocks, strict=True)):
        width = planes * width_per_group // 64 * groups
        for i in range(count):
            stride = 2 if stage > 0 and i == 0 else 1
            n.segment()
            shortcut = n.x
            n.conv(width, 1, stride if stride_on_1x1 else 1, bias=False)
            n.bn()
            n.relu()
            n.conv(width, 3, 1 if stride_on_1x1 else stride, 1, groups, bias=False)
            n.bn()
            n.relu()
            n.conv(planes * 4, 1, bias=False)
            n.bn()
            main = n.x
            if i == 0:
                n.x = shortcut
                n.conv(planes * 4, 1, stride, bias=False)
                n.bn()
                shortcut, n.x = n.x, main
            n.add(shortcut)
            n.relu()
    n.segment()
    n.avgpool()
    n.fc(1000)
    return n


def densenet(name: str, blocks: tuple[int, ...], growth: int = 32, init: int = 64) -> Net:
    """Huang et al. 2016 DenseNet-BC (bottleneck 4 x growth, compression 0.5), as torchvision: every dense layer
    concatenates all earlier feature maps of its block into a new tensor."""
    n = Net(name, (3, 224, 224))
    n.conv(init, 7, 2, 3, bias=False)
    n.bn()
    n.relu()
    n.maxpool(3, 2, 1)
    for b, layers in enumerate(blocks):
        features = [n.x]
        for _ in range(layers):
            n.segment()
            n.concat(features)
            n.bn()
            n.relu()
            n.conv(4 * growth, 1, bias=False)
            n.bn()
            n.relu()
            n.conv(growth, 3, 1, 1, bias=False)
            features.append(n.x)
        n.segment()
        n.concat(features)
        if b < len(blocks) - 1:
            n.bn()
            n.relu()
            n.conv(n.x[1][0] // 2, 1, bias=False)
            n.avgpool(2, 2)
    n.bn()
    n.relu()
    n.avgpool()
    n.fc(1000)
    return n


NETWORKS = {
    "alexnet": alexnet,
    "vgg19": vgg19,
    "resnet152": lambda: resnet("ResNet152", (3, 8, 36, 3), stride_on_1x1=True),
    "densenet201": lambda: densenet("DenseNet201", (6, 12, 48, 32)),
    "resnext101-64x4d": lambda: resnet("ResNeXt101 (64x4d)", (3, 4, 23, 3), groups=64, width_per_group=4),
}
