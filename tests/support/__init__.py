"""Helpers the tests share: real servers on loopback, real images, batch checks."""
