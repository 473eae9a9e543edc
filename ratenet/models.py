"""ANNarchy's standard models, by the names ANNarchy gives them (``from ratenet import models``).

The rate-coded ones (:class:`~ratenet.neurons.LeakyIntegrator`,
:class:`~ratenet.neurons.Hebb`, :class:`~ratenet.neurons.Oja`,
:class:`~ratenet.neurons.IBCM`) work as anywhere else in ratenet.  The spiking
ones exist so that a script or module that names them still imports and keeps
its rate-coded parts: creating one is allowed, using it in a population or a
projection raises a clear error.

Examples
--------
>>> from ratenet import models
>>> [cls.__name__ for cls in models.list_standard_synapses()]
['STP', 'STDP', 'Hebb', 'Oja', 'IBCM']
>>> models.Izhikevich().spiking
'spike'
"""

from __future__ import annotations

import ast
from typing import Any

from .neurons import IBCM, Hebb, LeakyIntegrator, Neuron, Oja, Synapse

__all__ = ["LeakyIntegrator", "Izhikevich", "IF_curr_exp", "IF_cond_exp", "IF_curr_alpha", "IF_cond_alpha",
           "HH_cond_exp", "EIF_cond_alpha_isfa_ista", "EIF_cond_exp_isfa_ista", "STP", "STDP", "Hebb", "Oja",
           "IBCM", "list_standard_neurons", "list_standard_synapses"]


class _SpikingNeuron(Neuron):
    """A spiking standard neuron of ANNarchy: it can be named and created, not used."""

    def __init__(self, *args: Any, **parameters: Any) -> None:
        self._define_spiking("spike", None, f"ANNarchy's spiking {type(self).__name__} neuron (not simulated by "
                                            "ratenet)")
        self.targets, self.uses_sum_all = [], False


class _SpikingSynapse(Synapse):
    """A spiking standard synapse of ANNarchy: it can be named and created, not used."""

    def __init__(self, *args: Any, **parameters: Any) -> None:
        self._define_spiking("pre_spike", None, f"ANNarchy's spiking {type(self).__name__} synapse (not simulated "
                                                "by ratenet)")
        self.operation, self.psp, self.psp_text, self.plastic = "sum", ast.Constant(value=0.0), "", False
        self.pruning = self.creating = None
        self.structural_auto = False


class Izhikevich(_SpikingNeuron):
    """ANNarchy's Izhikevich neuron (spiking: refused when used)."""


class IF_curr_exp(_SpikingNeuron):
    """ANNarchy's IF_curr_exp neuron (spiking: refused when used)."""


class IF_cond_exp(_SpikingNeuron):
    """ANNarchy's IF_cond_exp neuron (spiking: refused when used)."""


class IF_curr_alpha(_SpikingNeuron):
    """ANNarchy's IF_curr_alpha neuron (spiking: refused when used)."""


class IF_cond_alpha(_SpikingNeuron):
    """ANNarchy's IF_cond_alpha neuron (spiking: refused when used)."""


class HH_cond_exp(_SpikingNeuron):
    """ANNarchy's HH_cond_exp neuron (spiking: refused when used)."""


class EIF_cond_alpha_isfa_ista(_SpikingNeuron):
    """ANNarchy's EIF_cond_alpha_isfa_ista neuron (spiking: refused when used)."""


class EIF_cond_exp_isfa_ista(_SpikingNeuron):
    """ANNarchy's EIF_cond_exp_isfa_ista neuron (spiking: refused when used)."""


class STP(_SpikingSynapse):
    """ANNarchy's short-term plasticity synapse (spiking: refused when used)."""


class STDP(_SpikingSynapse):
    """ANNarchy's spike-timing-dependent plasticity synapse (spiking: refused when used)."""


def list_standard_neurons() -> list[type[Neuron]]:
    """ANNarchy's standard neuron models, in ANNarchy's order (only LeakyIntegrator is rate-coded).

    Examples
    --------
    >>> from ratenet import list_standard_neurons
    >>> list_standard_neurons()[0].__name__
    'LeakyIntegrator'
    """
    return [LeakyIntegrator, Izhikevich, IF_curr_exp, IF_cond_exp, IF_curr_alpha, IF_cond_alpha, HH_cond_exp,
            EIF_cond_alpha_isfa_ista, EIF_cond_exp_isfa_ista]


def list_standard_synapses() -> list[type[Synapse]]:
    """ANNarchy's standard synapse models, in ANNarchy's order (Hebb, Oja and IBCM are rate-coded).

    Examples
    --------
    >>> from ratenet import list_standard_synapses
    >>> [cls.__name__ for cls in list_standard_synapses()][2:]
    ['Hebb', 'Oja', 'IBCM']
    """
    return [STP, STDP, Hebb, Oja, IBCM]
