"""A few worked examples for each exercise. They show what is expected; the grade comes
from ``tinygrad-edu exercises check .``, which checks much more."""

import math

import numpy as np
from minigrad import nn, optim, tensor_ops
from minigrad.value import Value


def test_tanh_backward_at_one_half():
    x = Value(0.5)
    out = x.tanh()
    out.grad = 1.0
    Value.tanh_backward(out)
    assert math.isclose(x.grad, 1 - math.tanh(0.5) ** 2)  # 0.7864...


def test_a_node_used_twice_collects_both_gradients():
    a, b = Value(2.0), Value(-3.0)
    loss = a * b + a
    loss.backward()
    assert (a.grad, b.grad) == (-2.0, 2.0)


def test_bias_gradient_sums_over_the_batch():
    grad = np.ones((4, 3))
    assert tensor_ops.unbroadcast(grad, (3,)).tolist() == [4.0, 4.0, 4.0]


def test_linear_forward_shape():
    X, W, b = np.ones((5, 3)), np.ones((2, 3)), np.zeros(2)
    assert tensor_ops.linear_forward(X, W, b).shape == (5, 2)


def test_relu_backward_at_zero_is_zero():
    x = np.array([-1.0, 0.0, 2.0])
    assert tensor_ops.relu_backward(x, np.ones(3)).tolist() == [0.0, 0.0, 1.0]


def test_cross_entropy_of_uniform_logits_is_log_of_classes():
    loss = tensor_ops.softmax_cross_entropy(np.zeros((2, 10)), np.array([3, 7]))
    assert math.isclose(loss, math.log(10))


def test_the_lectures_mlp_has_101770_parameters():
    assert nn.count_parameters([784, 128, 10]) == 101_770


def test_first_momentum_step_is_a_plain_sgd_step():
    param, velocity = np.array([1.0]), np.zeros(1)
    optim.sgd_momentum_step(param, np.array([2.0]), velocity, lr=0.1, momentum=0.9)
    assert np.allclose(param, [0.8]) and np.allclose(velocity, [2.0])
