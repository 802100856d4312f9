import * as tf from '@tensorflow/tfjs';
import { RecurrentLayer } from './layer.js';

/** Registers gradflow's recurrent layer class for (de)serialization, once. */
const classes = tf.serialization.SerializationMap.getMap().classNameMap;
if (!classes[RecurrentLayer.className]) tf.serialization.registerClass(RecurrentLayer);
