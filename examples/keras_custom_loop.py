"""A Keras classifier trained with a custom GradientTape loop, TensorFlow 2.

Meant to contain mistakes: the Dense layers carry kernel regularizers, but the custom loop
never adds model.losses to the loss it differentiates (fit() would; a custom loop must), so
the regularizers do nothing. And the optimizer's decay= is learning-rate decay, not weight decay.
"""
import numpy as np
import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import layers, regularizers

rng = np.random.default_rng(0)
x_train = rng.normal(size=(1024, 16)).astype("float32")
y_train = (x_train[:, 0] + x_train[:, 1] > 0).astype("int32")
dataset = tf.data.Dataset.from_tensor_slices((x_train, y_train)).shuffle(1024).batch(64)

model = keras.Sequential([
    layers.Dense(64, activation="relu", kernel_regularizer=regularizers.l2(1e-4)),
    layers.Dense(64, activation="relu", kernel_regularizer=regularizers.l2(1e-4)),
    layers.Dense(2),
])
loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
optimizer = keras.optimizers.SGD(learning_rate=0.05, momentum=0.9, decay=1e-4)


@tf.function
def train_step(x, y):
    with tf.GradientTape() as tape:
        logits = model(x, training=True)
        loss = loss_fn(y, logits)
    grads = tape.gradient(loss, model.trainable_variables)
    optimizer.apply_gradients(zip(grads, model.trainable_variables))
    return loss


for epoch in range(10):
    for x, y in dataset:
        loss = train_step(x, y)
    print(f"epoch {epoch}: loss {float(loss):.4f}")
